/**
 * The key facts of an event for a person reading a card: an amount (with its currency) and
 * what it was about (a product, a title, a page), from the usual field names. Plain text;
 * nothing is shown when the event carries none of them.
 */
const AMOUNT = ["amount", "total", "revenue", "value", "price"];
const SUBJECT = ["product", "productName", "name", "title", "sku", "subject", "url", "page"];

export function summarizeEvent(data: unknown, lang: string): string {
  if (!data || typeof data !== "object") return "";
  const d = data as Record<string, unknown>;
  const parts: string[] = [];
  const amountKey = AMOUNT.find((k) => typeof d[k] === "number");
  if (amountKey) {
    const amount = d[amountKey] as number;
    const currency =
      typeof d.currency === "string" && /^[A-Za-z]{3}$/.test(d.currency)
        ? d.currency.toUpperCase()
        : undefined;
    parts.push(
      currency
        ? amount.toLocaleString(lang, { style: "currency", currency })
        : amount.toLocaleString(lang),
    );
  }
  const subjectKey = SUBJECT.find((k) => typeof d[k] === "string" && (d[k] as string).length > 0);
  if (subjectKey) parts.push((d[subjectKey] as string).slice(0, 60));
  return parts.join(" · ");
}
