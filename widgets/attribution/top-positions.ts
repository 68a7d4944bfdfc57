import type { AttributionResult } from "vislens";
import { dataFrameView } from "../dataframe-view";
import type { Widget } from "../widget";
import { checkResult, headLabel } from "./common";

/**
 * The top head's top positions as a table: each with its position score and what the residual
 * stream there, and the head's write from there, decode to through the frozen final norm.
 */
export function attributionTopPositions(r: AttributionResult, options: { title?: string } = {}): Widget {
  checkResult("attributionTopPositions", r);
  const head = r.headPositions[0];
  const rows = r.topPositions.map((p) => ({
    position: p.position,
    token: p.label,
    score: p.score,
    "residual decodes to": p.residualWords.join(" "),
    "head's write decodes to": p.writeWords.join(" "),
  }));
  return dataFrameView(rows, {
    title: options.title ?? (head ? `top positions of head ${headLabel(head)} for "${r.target.token}"` : "no head was given position scores"),
    showIndex: false,
  });
}
