// Deterministic demo data: the same seed always yields the same customers and events.
// Used by `npm start` (seed) and by the benchmark's data generator.

/** mulberry32: a tiny seeded PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  "Emma",
  "Liam",
  "Sophie",
  "Noah",
  "Julia",
  "Daan",
  "Mila",
  "Sem",
  "Tess",
  "Lucas",
  "Anna",
  "Finn",
  "Sara",
  "Levi",
  "Eva",
  "Milan",
  "Lotte",
  "Jesse",
  "Fleur",
  "Thijs",
  "Nina",
  "Bram",
  "Zoë",
  "Ruben",
  "Lisa",
  "Max",
  "Iris",
  "Luuk",
  "Noor",
  "Stijn",
];
const LAST = [
  "de Jong",
  "Jansen",
  "de Vries",
  "van den Berg",
  "Bakker",
  "Visser",
  "Smit",
  "Meijer",
  "Mulder",
  "de Boer",
  "Bos",
  "Vos",
  "Peters",
  "Hendriks",
  "Dekker",
  "Brouwer",
  "de Wit",
  "Dijkstra",
  "Smits",
  "de Graaf",
];
const CITIES = [
  "Amsterdam",
  "Rotterdam",
  "Utrecht",
  "Den Haag",
  "Eindhoven",
  "Groningen",
  "Leiden",
  "Haarlem",
];
const PRODUCTS = [
  ["trail-shoes", 129],
  ["rain-jacket", 189],
  ["backpack-30l", 99],
  ["wool-socks", 19],
  ["headlamp", 39],
  ["tent-2p", 349],
];
const TIERS = ["bronze", "silver", "gold", "platinum"];
const DAY = 24 * 3600 * 1000;

const pick = (r, list) => list[Math.floor(r() * list.length)];
const slug = (s) =>
  s
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z]+/g, ".")
    .replace(/^\.|\.$/g, "");

/** `count` customers; customer 0 is John Greene (the spec's example). */
export function customers(count, seed = 42) {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const firstName = i === 0 ? "John" : pick(r, FIRST);
    const lastName = i === 0 ? "Greene" : pick(r, LAST);
    const email =
      i === 0 ? "John.Greene@Luma.com" : `${slug(firstName)}.${slug(lastName)}${i}@example.com`;
    const devices = Array.from(
      { length: 1 + Math.floor(r() * 3) },
      (_, d) => `dev_${String(i).padStart(6, "0")}_${d}_${Math.floor(r() * 1e9).toString(36)}`,
    );
    return {
      crm: `CUST-${10000 + i}`,
      email,
      phone:
        r() < 0.66 ? `06${String(10000000 + Math.floor(r() * 89999999)).slice(0, 8)}` : undefined,
      loyalty: i === 0 || r() < 0.5 || i === 1 ? `L${700000 + i}` : undefined,
      devices,
      firstName,
      lastName,
      city: pick(r, CITIES),
      // The demo page's two customers: John is gold; customer 1 is silver and a frequent
      // buyer, so each of the page's two segment banners has someone to show it to.
      tier: i === 0 ? "gold" : i === 1 ? (r(), "silver") : pick(r, TIERS),
      points: Math.floor(r() * 5000),
      marketing: r() < 0.8 ? "y" : "n",
      r,
    };
  });
}

const id = (namespace, value) => ({ namespace, id: value });

export function recordsFor(people, now = Date.now()) {
  const records = [];
  for (const [i, p] of people.entries()) {
    const at = new Date(now - (60 - (i % 60)) * DAY).toISOString();
    const crmIds = [id("crm", p.crm), id("email", p.email)];
    if (p.phone) crmIds.push(id("phone", p.phone));
    records.push({
      dataset: "crm",
      identities: crmIds,
      timestamp: at,
      attributes: {
        firstName: p.firstName,
        lastName: p.lastName,
        address: { city: p.city, country: "NL" },
        consent: { marketing: p.marketing },
      },
    });
    if (p.loyalty) {
      records.push({
        dataset: "loyalty",
        identities: [id("loyalty", p.loyalty), id("crm", p.crm)],
        timestamp: new Date(now - (i % 30) * DAY).toISOString(),
        attributes: { loyalty: { tier: p.tier, points: p.points } },
      });
    }
  }
  return records;
}

export function eventsFor(people, now = Date.now(), seed = 7) {
  const r = rng(seed);
  const events = [];
  for (const p of people) {
    const visits = 3 + Math.floor(r() * 10);
    for (let v = 0; v < visits; v++) {
      const at = now - Math.floor(r() * 60 * DAY);
      const device = pick(r, p.devices);
      const loggedIn = r() < 0.6;
      events.push({
        id: `demo-pv-${p.crm}-${v}`,
        type: "page.view",
        dataset: "web",
        timestamp: new Date(at).toISOString(),
        identities: loggedIn ? [id("device", device), id("crm", p.crm)] : [id("device", device)],
        data: { url: pick(r, ["/", "/shoes", "/jackets", "/sale", "/tents"]) },
      });
    }
    const demoShopper = p.crm === "CUST-10000" || p.crm === "CUST-10001";
    const purchases = Math.floor(r() * 4) + (demoShopper ? 2 : 0);
    for (let k = 0; k < purchases; k++) {
      const [product, amount] = pick(r, PRODUCTS);
      const recent = demoShopper && k < 2;
      const at = now - (recent ? (k + 1) * 3 * DAY : Math.floor(r() * 60 * DAY));
      events.push({
        id: `demo-order-${p.crm}-${k}`,
        type: "purchase",
        dataset: "orders",
        timestamp: new Date(at).toISOString(),
        identities: [id("crm", p.crm), id("email", p.email)],
        data: { product, amount, currency: "EUR" },
      });
    }
  }
  return events.sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
}

/** Message delivery events for two journeys over 60 days (some retried, some bounced). */
/** Journey messages (sent, retried, delivered, opened, clicked) and the purchases some of them lead to. */
export function messagesFor(people, now = Date.now(), seed = 11) {
  const r = rng(seed);
  const events = [];
  for (const p of people) {
    for (const journey of ["welcome", "winback", "cart-reminder"]) {
      if (journey !== "welcome" && r() < 0.5) continue;
      const messageId = `msg-${journey}-${p.crm}`;
      const channel = r() < 0.8 ? "email" : "sms";
      const sentAt = now - Math.floor(r() * 60 * DAY);
      const base = { dataset: "messages", identities: [id("email", p.email)] };
      const push = (type, at, extra = {}) =>
        events.push({
          ...base,
          id: `${messageId}-${type}-${events.length}`,
          type,
          timestamp: new Date(Math.min(at, now)).toISOString(),
          data: { messageId, channel, journey, ...extra },
        });
      push("message.sent", sentAt, { attempt: 1 });
      const outcome = r();
      if (outcome < 0.1) {
        push("message.bounced", sentAt + 60_000);
        continue;
      }
      if (outcome < 0.2) {
        push("message.retry", sentAt + 3_600_000, { attempt: 2 });
        push("message.delivered", sentAt + 3_660_000);
      } else {
        push("message.delivered", sentAt + 60_000);
      }
      if (r() < 0.45) push("message.opened", sentAt + 7_200_000);
      const clicked = r() < (journey === "cart-reminder" ? 0.3 : 0.15);
      if (clicked) push("message.clicked", sentAt + 7_300_000);
      // Some journeys work: a purchase follows within days (what journey attribution credits).
      if (r() < (clicked ? 0.6 : 0.12)) {
        const at = sentAt + Math.floor((0.5 + r() * 5) * DAY);
        const [product, amount] = pick(r, PRODUCTS);
        if (at < now)
          events.push({
            id: `demo-order-${messageId}`,
            type: "purchase",
            dataset: "orders",
            timestamp: new Date(at).toISOString(),
            identities: [id("crm", p.crm), id("email", p.email)],
            data: { product, amount, currency: "EUR" },
          });
      }
    }
  }
  return events.sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
}
