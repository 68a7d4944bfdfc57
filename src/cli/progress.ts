/**
 * A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise (logs, CI),
 * so long builds show they are alive without flooding a log.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number, note?: string) => void {
  let lastDecile = -1;
  return (done, total, note = "") => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    if (stream.isTTY) {
      const width = 30;
      const fill = Math.round(frac * width);
      stream.write(`\r${label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} ${note}`);
      if (done >= total) stream.write("\n");
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile !== lastDecile || done >= total) {
      lastDecile = decile;
      stream.write(`${label} ${(frac * 100).toFixed(0)}% ${done}/${total} ${note}\n`);
    }
  };
}
