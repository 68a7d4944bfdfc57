/**
 * vislens/widgets: what the lenses found, as charts in a notebook.
 *
 *   interpretImage records / LayerAlignment / metric rows / DataFrame
 *        -> widget function (a pure function: table -> Vega-Lite v5 spec + text summary)
 *        -> Widget: show() in a tslab notebook (one display_data: vega-lite + SVG + text),
 *                   save("fig.svg" | "fig.png"), toSVG(), toPNG(), toMimeBundle()
 *
 * Specs target vega-lite 5.6 (what JupyterLab 4.6 renders); the SVG is rendered in Node by Vega
 * for every front end without it. Only this package imports vega. See docs/widgets.md.
 */
export { patchExplorer, type PatchExplorerOptions, type ExplorerStates } from "./patch-explorer";
export { patchLayerHeatmap, type PatchLayerHeatmapOptions } from "./patch-layer-heatmap";
export { lensCurves, type LensCurveRow, type LensCurvesOptions } from "./lens-curves";
export { layerAlignmentHeatmap, type LayerAlignmentHeatmapOptions } from "./layer-alignment-heatmap";
export { dataFrameView, type DataFrameLike, type DataFrameViewOptions } from "./dataframe-view";
export { patchWords, WORD_MAX_CHARS, type PatchWordsExample, type PatchWordsOptions } from "./patch-words";
export { attributionHeads, attributionMaps, attributionLayers, attributionTopPositions, type AttributionHeadsOptions, type AttributionMapsOptions } from "./attribution";
export { conceptGrid, conceptLocal, conceptScatter, type ConceptGridOptions, type ConceptLocalOptions, type ConceptScatterOptions, type ConceptGridInput, type LocalInput, type ScatterInput } from "./concepts";
export { topScore, defaultScore, type PatchScore, type ScoreField } from "./score";
export { createWidget, type Widget, type WidgetParts } from "./widget";
export { VEGALITE_MIME, VEGALITE_SCHEMA, type MimeBundle, type VegaLiteSpec } from "./spec";
export { compileSpec, type Compiled } from "./render/compile";
export { renderSVG, type Rendered } from "./render/svg";
export { svgToPNG, type PngOptions } from "./render/png";
export { SAVE_FORMATS, type SaveOptions } from "./render/save";
export { kernelDisplayWriter, publishDisplayData, type DisplayContent, type DisplayWriter } from "./render/kernel";
export type { ImageSource } from "./data/image";
