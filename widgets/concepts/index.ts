/**
 * The concept-dictionary widgets (Parekh et al. 2024; results of `learnConcepts`,
 * `interpretConceptImage`, `conceptUsefulness`, `conceptComparison`): the concept grid, the
 * local-interpretation panel and the grounded-vs-random scatter. docs/widgets.md describes them.
 */
export { conceptGrid, type ConceptGridOptions } from "./grid";
export { conceptLocal, type ConceptLocalOptions, type LocalInput } from "./local";
export { conceptScatter, type ConceptScatterOptions, type ScatterInput } from "./scatter";
export { METHOD_TITLES, type ConceptGridInput } from "./common";
