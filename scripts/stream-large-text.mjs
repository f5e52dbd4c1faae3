// Streams a generated text file far larger than the readers' windows through openTextFile and
// reports throughput and the process's peak memory, to show that memory stays flat whatever the
// file's size. Not part of the test suite (it writes SIZE_MB of text to the temporary directory).
//
//   npx tsc -p tsconfig.build.json && node scripts/stream-large-text.mjs [SIZE_MB=200] [B=64] [T=256]
import { createWriteStream, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { openTextFile } from '../dist/node/data-entry.js';

const sizeMB = Number(process.argv[2] ?? 200),
  B = Number(process.argv[3] ?? 64),
  T = Number(process.argv[4] ?? 256);
const dir = mkdtempSync(join(tmpdir(), 'unrolled-big-text-'));
const path = join(dir, 'big.txt');
let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 50);

try {
  // mostly ASCII with some multi-byte characters, written in 1 MiB pieces
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'naïve', 'café', 'über', '日本', '😀', '\n'];
  let seed = 1;
  const piece = () => {
    let s = '';
    while (s.length < 1 << 20) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      s += `${words[seed % words.length]} `;
    }
    return s;
  };
  const out = createWriteStream(path);
  let written = 0;
  while (written < sizeMB * (1 << 20)) {
    const p = Buffer.from(piece());
    written += p.length;
    if (!out.write(p)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  sample();
  const base = process.memoryUsage().rss;
  console.log(`wrote ${(written / 2 ** 20).toFixed(0)} MiB; rss before opening ${(base / 2 ** 20).toFixed(0)} MiB`);
  peak = 0;
  let t0 = performance.now();
  const stream = await openTextFile(path, { T, B });
  const openS = (performance.now() - t0) / 1000;
  console.log(
    `vocabulary pass: ${stream.tokens} characters, ${stream.vocabSize} distinct, ${openS.toFixed(1)} s (${(written / 2 ** 20 / openS).toFixed(0)} MiB/s)`,
  );
  t0 = performance.now();
  let sum = 0;
  for (let k = 0; k < stream.chunksPerEpoch; k++) {
    const c = await stream.next();
    sum += c.x[0];
  }
  const epochS = (performance.now() - t0) / 1000;
  console.log(
    `one epoch: ${stream.chunksPerEpoch} chunks of [${T}, ${B}] in ${epochS.toFixed(1)} s (${(written / 2 ** 20 / epochS).toFixed(0)} MiB/s); checksum ${sum}`,
  );
  await stream.close();
  sample();
  console.log(`peak rss while streaming ${(peak / 2 ** 20).toFixed(0)} MiB (the file is ${(written / 2 ** 20).toFixed(0)} MiB)`);
} finally {
  clearInterval(timer);
  rmSync(dir, { recursive: true, force: true });
}
