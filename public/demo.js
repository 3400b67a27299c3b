// The demo shop's own page script (no inline scripts: the page runs under a strict CSP).
const hero = document.getElementById("hero");
const who = document.getElementById("who");
const select = document.getElementById("customer");
const login = document.getElementById("login");
const logout = document.getElementById("logout");
const contextView = document.getElementById("context");

hero.addEventListener("tessera-context", (event) => {
  contextView.textContent = JSON.stringify(event.context ?? { error: "context unavailable" }, null, 2);
});

const config = await (await fetch("/demo/config")).json();
for (const customer of config.customers) select.append(new Option(customer.name, customer.crm));
hero.setAttribute("endpoint", location.origin);
hero.setAttribute("key", config.key);

login.addEventListener("click", async () => {
  // The site's back end signs who is logged in; the page only passes the token on.
  const response = await fetch("/demo/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ customer: select.value }) });
  const { identityToken } = await response.json();
  hero.setAttribute("identity-token", identityToken);
  who.textContent = `Logged in as ${select.options[select.selectedIndex].text}.`;
  login.hidden = true;
  logout.hidden = false;
});

logout.addEventListener("click", () => {
  hero.removeAttribute("identity-token");
  who.textContent = "You are browsing anonymously.";
  login.hidden = false;
  logout.hidden = true;
});
