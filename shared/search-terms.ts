/** Lower-cased, accent-free form used for name search terms and queries. */
function foldForSearch(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .trim();
}

/**
 * The words of a name, folded: "Zoë de Vries" → zoe, de, vries. A query of several words
 * matches a profile when each word prefixes one of its terms ("zoe de v" finds her), so the
 * whole name is not stored as a term of its own.
 */
export function nameTerms(name: string): string[] {
  return [...new Set(searchWords(name))].filter((t) => t.length <= 200);
}

/** The folded words of a name or a query. */
export function searchWords(text: string): string[] {
  return foldForSearch(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}
