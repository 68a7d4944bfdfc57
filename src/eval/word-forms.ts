/**
 * Word matching for the ground-truth judges: a lens word is normalised (lower case, surrounding
 * punctuation removed) and matches a reference word when it is the word or one of its plural forms
 * ("dog" → dogs; "bus" → buses; "cherry" → cherries; "knife" → knives; a few irregular nouns:
 * "mouse" → mice, "goose" → geese, "man" → men, ...). Plurals are generated from the reference word,
 * never guessed from the lens word, so "bus" never matches "bu".
 */

const IRREGULAR: Readonly<Record<string, readonly string[]>> = {
  mouse: ["mice"],
  goose: ["geese"],
  man: ["men"],
  woman: ["women"],
  child: ["children"],
  tooth: ["teeth"],
  foot: ["feet"],
  person: ["people"],
  fish: ["fish"],
  sheep: ["sheep"],
  deer: ["deer"],
  cactus: ["cacti"],
};

/** Lower case, with leading and trailing punctuation (anything not a letter or digit) removed. */
export function normaliseWord(word: string): string {
  return word.trim().toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

/** The word (normalised) and its plural forms. */
export function wordForms(word: string): string[] {
  const w = normaliseWord(word);
  if (w === "") return [];
  const forms = new Set([w, `${w}s`, `${w}es`, ...(IRREGULAR[w] ?? [])]);
  if (/[^aeiou]y$/.test(w)) forms.add(`${w.slice(0, -1)}ies`);
  if (w.endsWith("fe")) forms.add(`${w.slice(0, -2)}ves`);
  else if (w.endsWith("f")) forms.add(`${w.slice(0, -1)}ves`);
  return [...forms];
}

/** A lookup of reference words (each word of each phrase, with its plural forms). */
export class WordSet {
  private readonly forms = new Set<string>();

  /** Adds every space-separated word of each phrase ("fire truck" adds fire, truck and their plurals). */
  constructor(phrases: Iterable<string> = []) {
    for (const p of phrases) this.add(p);
  }

  add(phrase: string): this {
    for (const w of phrase.split(/\s+/)) for (const f of wordForms(w)) this.forms.add(f);
    return this;
  }

  /** Whether a (raw) lens word matches a reference word or one of its plurals. */
  has(word: string): boolean {
    const w = normaliseWord(word);
    return w !== "" && this.forms.has(w);
  }
}
