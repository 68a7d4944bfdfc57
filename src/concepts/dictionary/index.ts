/**
 * Concept dictionaries (Parekh et al., NeurIPS 2024): Z [M, D] ≈ codes [M, K] × atoms [K, D].
 *
 *   fitDictionary(z, "snmf", { k: 20, lambda: 1 })   -> Dictionary (atoms, codes, settings, report)
 *   dictionaryMethod("snmf").encode(dictionary, zNew) -> activations [n, K] of new samples
 *
 * Methods: snmf (sparse dictionary learning, codes ≥ 0: the paper's), kmeans, pca, simple (its
 * baselines). Adding one means adding a file that exports a `DictionaryMethod` and listing it here.
 */
import { kmeans } from "./kmeans";
import { pca } from "./pca";
import { simple } from "./simple";
import { snmf } from "./snmf";
import { describeValue } from "../../errors";
import { DICTIONARY_METHODS, isDictionaryMethodName, type Dictionary, type DictionaryMethod, type DictionaryMethodName, type DictionaryOptions, type Matrix } from "./types";

export * from "./types";
export { lassoEncode, type LassoOptions } from "./lasso";
export { snmf, kmeans, pca, simple };

const METHODS: Record<DictionaryMethodName, DictionaryMethod> = { snmf, kmeans, pca, simple };

/** The method registered under `name`. */
export function dictionaryMethod(name: DictionaryMethodName): DictionaryMethod {
  if (typeof name !== "string") throw new TypeError(`dictionaryMethod: name must be a string, got ${describeValue(name)}`);
  if (!isDictionaryMethodName(name)) throw new RangeError(`dictionaryMethod: unknown method ${describeValue(name)}; expected one of ${DICTIONARY_METHODS.join(", ")}`);
  return METHODS[name];
}

/** Fits a `method` dictionary with K concepts to `z` [M, D]. */
export function fitDictionary(z: Matrix, method: DictionaryMethodName, options?: DictionaryOptions): Dictionary {
  return dictionaryMethod(method).fit(z, options);
}

/** Activations [n, K] of new samples `z` [n, D] on a fitted dictionary (its own method's encoder). */
export function encodeDictionary(dictionary: Dictionary, z: Matrix): Matrix<Float64Array> {
  return dictionaryMethod(dictionary.method).encode(dictionary, z);
}
