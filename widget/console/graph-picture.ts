/**
 * An identity graph drawn as a graph: identities as nodes on a circle (the one looked up
 * first), links as lines — applied ones solid, links a cap refused dashed — with the
 * dataset and the times on hover. Every value is rendered as text, never markup.
 */
import { html, svg, type TemplateResult } from "lit";

interface Ref {
  namespace: string;
  id: string;
}
type Link = {
  from: Ref;
  to: Ref;
  dataset: string;
  firstSeen: string;
  lastSeen: string;
  applied: boolean;
};
interface GraphPictureInput {
  identities: (Ref & { firstSeen: string; lastSeen: string })[];
  links: Link[];
  /** Links a cap refused to identities of other profiles (drawn with those identities, greyed). */
  refusedLinks?: Link[];
}

const SIZE = 420;
const keyOf = (r: Ref) => `${r.namespace}:${r.id}`;
const short = (text: string, max = 22) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function graphPicture(graph: GraphPictureInput, label: string): TemplateResult {
  // Refused links reach identities outside the profile: they are drawn too, greyed.
  const links = [...graph.links, ...(graph.refusedLinks ?? [])];
  const members = new Set(graph.identities.map(keyOf));
  const nodes = [
    ...graph.identities.map(keyOf),
    ...new Set(links.flatMap((l) => [keyOf(l.from), keyOf(l.to)]).filter((k) => !members.has(k))),
  ];
  const radius = nodes.length === 1 ? 0 : SIZE / 2 - 90;
  const at = new Map(
    nodes.map((k, i) => [
      k,
      {
        x: SIZE / 2 + radius * Math.cos((2 * Math.PI * i) / nodes.length - Math.PI / 2),
        y: SIZE / 2 + radius * Math.sin((2 * Math.PI * i) / nodes.length - Math.PI / 2),
      },
    ]),
  );
  const seen = new Map(graph.identities.map((i) => [keyOf(i), i]));
  return html`<svg role="img" aria-label=${label} viewBox="0 0 ${SIZE} ${SIZE}" width="100%" class="graph-picture">
    ${links.map((l) => {
      const a = at.get(keyOf(l.from))!;
      const b = at.get(keyOf(l.to))!;
      return svg`<line class=${l.applied ? "applied" : "refused"} x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} stroke-width="2" stroke-dasharray=${l.applied ? "" : "6 4"}>
        <title>${keyOf(l.from)} — ${keyOf(l.to)}: ${l.applied ? "applied" : "kept, not applied (a cap refused it)"}; dataset ${l.dataset}; first seen ${l.firstSeen}, last seen ${l.lastSeen}</title>
      </line>`;
    })}
    ${nodes.map((k) => {
      const p = at.get(k)!;
      const identity = seen.get(k);
      const [namespace, ...rest] = k.split(":");
      return svg`<g class="node">
        <circle cx=${p.x} cy=${p.y} r="9" class=${identity ? "known" : "other"}><title>${k}${identity ? `; first seen ${identity.firstSeen}, last seen ${identity.lastSeen}` : "; in another profile"}</title></circle>
        <text x=${p.x} y=${p.y + 24} font-size="11" text-anchor="middle" fill="currentColor">${namespace}</text>
        <text x=${p.x} y=${p.y + 37} font-size="11" text-anchor="middle" fill="currentColor">${short(rest.join(":"))}</text>
      </g>`;
    })}
  </svg>
  <p class="muted">Solid: applied links. Dashed: links kept but not applied (a cap refused them). Hover for datasets and times.</p>`;
}
