/** Lower-cased, accent-free form used for name search terms and queries. */
export function foldForSearch(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
}

/** The words of a name and the whole name, folded: "Zoë de Vries" → zoe, de, vries, "zoe de vries". */
export function nameTerms(name: string): string[] {
  const folded = foldForSearch(name);
  const words = folded.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return [...new Set([folded, ...words])].filter((t) => t.length > 0 && t.length <= 200);
}
