// Running the command line in-process: main(argv, io) with the output collected.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main, type CliIO } from '../../src/cli/main.js';

export interface Run {
  code: number;
  out: string[];
  err: string[];
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON lines, whose shape each test asserts
  json: Record<string, any>[];
}

export async function run(argv: string[], extra: Partial<CliIO> = {}): Promise<Run> {
  const out: string[] = [],
    err: string[] = [];
  const io: CliIO = {
    out: (l) => {
      out.push(...l.split('\n'));
    },
    err: (l) => {
      err.push(...l.split('\n'));
    },
    ...extra,
  };
  const code = await main(argv, io);
  const json = argv.includes('--json') ? out.filter((l) => l.length > 0).map((l) => JSON.parse(l)) : [];
  return { code, out, err, json };
}

export function tempDir(prefix: string): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A terminal-like stream that keeps what is written to it. */
export function fakeTerminal(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & { isTTY: boolean; columns: number };
  stream.isTTY = true;
  stream.columns = 120;
  return { stream, text: () => chunks.join('') };
}

/** Per-step losses from JSON step lines (with --every 1). */
export function losses(r: Run): Map<number, number> {
  return new Map(r.json.filter((l) => l.type === 'step').map((l) => [l.step as number, l.lastLoss as number]));
}
