import { ArtifactError, ImageError } from "../errors";
import { LlmJudgeError } from "../eval/llm-judge";
import { UsageError } from "./args";
import { HIDDEN_USAGE, hiddenCommand } from "./hidden";
import { INFO_USAGE, infoCommand } from "./info";
import { BANK_USAGE, bankCommand } from "./bank";
import { INTERPRET_USAGE, interpretCommand } from "./interpret";
import { EVAL_USAGE, evalCommand } from "./eval";
import { CONCEPTS_USAGE, conceptsCommand } from "./concepts";
import { ATTRIBUTE_USAGE, attributeCommand } from "./attribute";

type Command = (argv: string[], out: (text: string) => void) => Promise<void>;

const COMMANDS: Record<string, { run: Command; usage: string; summary: string }> = {
  info: { run: infoCommand, usage: INFO_USAGE, summary: "validate a model bundle and summarise its manifest" },
  hidden: { run: hiddenCommand, usage: HIDDEN_USAGE, summary: "hidden states of an image's visual tokens at every layer" },
  bank: { run: bankCommand, usage: BANK_USAGE, summary: "build a contextual bank (LatentLens) from a text corpus, or verify one" },
  interpret: { run: interpretCommand, usage: INTERPRET_USAGE, summary: "what each patch means at each layer, by lens" },
  eval: { run: evalCommand, usage: EVAL_USAGE, summary: "% of interpretable visual tokens by model, lens and layer (ground-truth judge)" },
  concepts: { run: conceptsCommand, usage: CONCEPTS_USAGE, summary: "a concept dictionary for one word: K concepts with grounding words and images, and their overlap" },
  attribute: { run: attributeCommand, usage: ATTRIBUTE_USAGE, summary: "which heads and image patches raised the answer's log-probability (+ ablation check)" },
};

function usage(): string {
  return ["usage: vislens <command> [options]", "", ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}\n           ${c.usage}`)].join("\n");
}

/**
 * The CLI entry point, over the same public API as the notebooks. Returns the exit code: 0 ok,
 * 1 bad input or failure (one clear line on stderr, no stack trace), 2 wrong usage.
 */
export async function main(argv: string[], out = (t: string) => process.stdout.write(t + "\n"), err = (t: string) => process.stderr.write(t + "\n")): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    out(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`vislens: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    await command.run(rest, out);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`vislens ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (error instanceof ArtifactError || error instanceof ImageError || error instanceof LlmJudgeError || error instanceof RangeError) {
      err(`vislens ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
