export { attributionHeads, type AttributionHeadsOptions } from "./heads";
export { attributionMaps, type AttributionMapsOptions } from "./maps";
export { attributionLayers } from "./layers";
export { attributionTopPositions } from "./top-positions";
