/**
 * An annotated eval set of either shipped world, told apart by its `annotations.json`: the
 * open-vocabulary world's carries `world` ("vislens_world ..."), the shapes world's does not.
 */

import type { ShapesEvalSet } from "./annotations";
import { checkShapesEvalSet, readAnnotationsJson } from "./annotations";
import { checkWorldEvalSet, type WorldEvalSet } from "./world-annotations";

export type AnyEvalSet = { kind: "shapes"; set: ShapesEvalSet } | { kind: "world"; set: WorldEvalSet };

/** Reads and checks an eval set of either world (`where`: annotations.json or its directory). */
export function readEvalSet(where: string): AnyEvalSet {
  const { file, data } = readAnnotationsJson(where);
  return typeof data.world === "string" ? { kind: "world", set: checkWorldEvalSet(data, file) } : { kind: "shapes", set: checkShapesEvalSet(data, file) };
}
