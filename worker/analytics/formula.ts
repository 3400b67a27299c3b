/**
 * Calculated metrics: a small formula language over metric ids — numbers, metric ids,
 * `+ - * /`, unary minus and parentheses. Parsed into a tree by recursive descent and
 * evaluated by walking it (never `eval`). Division by zero and missing values give null,
 * which a report shows as an empty cell rather than a made-up 0 or Infinity.
 */

export type Formula =
  | { kind: "number"; value: number }
  | { kind: "metric"; id: string }
  | { kind: "negate"; operand: Formula }
  | { kind: "binary"; op: "+" | "-" | "*" | "/"; left: Formula; right: Formula };

export class FormulaError extends Error {}

type Token =
  | { kind: "number"; value: number; at: number }
  | { kind: "id"; value: string; at: number }
  | { kind: "op"; value: string; at: number };

const MAX_DEPTH = 32;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /(\d+(?:\.\d+)?)|([A-Za-z][A-Za-z0-9_]*)|([-+*/()])/y;
  for (let at = 0; at < text.length; ) {
    if (/\s/.test(text[at]!)) {
      at++;
      continue;
    }
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m) throw new FormulaError(`unexpected "${text[at]}" at character ${at + 1}`);
    if (m[1] !== undefined) tokens.push({ kind: "number", value: Number(m[1]), at });
    else if (m[2] !== undefined) tokens.push({ kind: "id", value: m[2], at });
    else tokens.push({ kind: "op", value: m[3]!, at });
    at = pattern.lastIndex;
  }
  return tokens;
}

/** Parses a formula; throws FormulaError with a message a user can act on. */
export function parseFormula(text: string): Formula {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const describe = (t: Token | undefined) =>
    t ? `"${t.value}" at character ${t.at + 1}` : "the end";

  const expression = (depth: number): Formula => {
    if (depth > MAX_DEPTH) throw new FormulaError(`nested deeper than ${MAX_DEPTH} levels`);
    let left = term(depth);
    while (peek()?.kind === "op" && (peek()!.value === "+" || peek()!.value === "-")) {
      const op = tokens[i++]!.value as "+" | "-";
      left = { kind: "binary", op, left, right: term(depth) };
    }
    return left;
  };
  const term = (depth: number): Formula => {
    let left = factor(depth);
    while (peek()?.kind === "op" && (peek()!.value === "*" || peek()!.value === "/")) {
      const op = tokens[i++]!.value as "*" | "/";
      left = { kind: "binary", op, left, right: factor(depth) };
    }
    return left;
  };
  const factor = (depth: number): Formula => {
    const t = tokens[i++];
    if (!t) throw new FormulaError("ends early: a metric id, a number or ( is missing");
    if (t.kind === "number") return { kind: "number", value: t.value };
    if (t.kind === "id") return { kind: "metric", id: t.value };
    if (t.value === "-") return { kind: "negate", operand: factor(depth + 1) };
    if (t.value === "(") {
      const inner = expression(depth + 1);
      const close = tokens[i++];
      if (close?.value !== ")") throw new FormulaError(`expected ")" but found ${describe(close)}`);
      return inner;
    }
    throw new FormulaError(`unexpected ${describe(t)}`);
  };

  if (tokens.length === 0) throw new FormulaError("is empty");
  const tree = expression(0);
  if (i < tokens.length) throw new FormulaError(`unexpected ${describe(tokens[i])}`);
  return tree;
}

/** The metric ids a formula reads. */
export function formulaReferences(formula: Formula, into = new Set<string>()): Set<string> {
  if (formula.kind === "metric") into.add(formula.id);
  else if (formula.kind === "negate") formulaReferences(formula.operand, into);
  else if (formula.kind === "binary") {
    formulaReferences(formula.left, into);
    formulaReferences(formula.right, into);
  }
  return into;
}

/** The value of a formula; null when a metric is null or a division is by zero. */
export function evaluateFormula(
  formula: Formula,
  values: Readonly<Record<string, number | null | undefined>>,
): number | null {
  switch (formula.kind) {
    case "number":
      return formula.value;
    case "metric":
      return values[formula.id] ?? null;
    case "negate": {
      const v = evaluateFormula(formula.operand, values);
      return v === null ? null : -v;
    }
    case "binary": {
      const l = evaluateFormula(formula.left, values);
      const r = evaluateFormula(formula.right, values);
      if (l === null || r === null) return null;
      if (formula.op === "/") return r === 0 ? null : l / r;
      return formula.op === "+" ? l + r : formula.op === "-" ? l - r : l * r;
    }
  }
}
