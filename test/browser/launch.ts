// The one way the browser tests get a Chromium. By default it comes from npm: the pinned
// devDependency @sparticuz/chromium carries a headless Chromium, which executablePath() unpacks
// under the OS temp dir (once; later calls reuse it). UNROLLED_CHROMIUM=/path/to/chromium points
// the tests at a browser of the user's own instead; it is never required.
//
// The flags are deliberately few. The package's own `chromium.args` are not used: they include
// --single-process, under which no page can be cross-origin isolated (so the COOP/COEP checks
// would fail for the wrong reason), and --disable-web-security. No --lang either: the page must
// see the locale of the environment, so that the tests catch what a user's browser would do to
// the demo (a C/POSIX locale makes navigator.language "en-US@posix", which Intl rejects).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** UNROLLED_SKIP_BROWSER=1 is an explicit opt-out; without it the browser tests always run. */
export const SKIP_BROWSER = process.env.UNROLLED_SKIP_BROWSER === '1';

const ARGS = [
  '--no-sandbox', // containers and root users have no usable sandbox
  // nothing may leave the machine: no update checks, no component downloads, no sync
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

const PACKAGE = '@sparticuz/chromium';

/** The installed version; its exports map hides package.json, so it is found from the entry up. */
function packageVersion(): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(PACKAGE));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === PACKAGE && pkg.version) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return '?';
      dir = up;
    }
  } catch {
    return '?';
  }
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Runs `fn` while holding a lock directory in the temp dir. Test files run in parallel worker
 * processes, and executablePath() returns the binary as soon as the file exists: without the
 * lock a second process would launch a binary the first is still writing.
 */
async function withUnpackLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), 'unrolled-chromium-unpack.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // a lock left by a killed process: unpacking takes seconds, not minutes
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 120_000) await rmdir(lock).catch(() => {});
      if (Date.now() > deadline)
        throw new Error(`waited 180 s for ${lock} (another process unpacking Chromium?); remove it if no test is running`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

export interface ChromiumExecutable {
  path: string;
  /** Where it came from, for messages: the env variable or the npm package. */
  source: string;
}

/** The Chromium to launch: $UNROLLED_CHROMIUM if set, else the one from @sparticuz/chromium. */
export async function chromiumExecutable(): Promise<ChromiumExecutable> {
  const own = process.env.UNROLLED_CHROMIUM;
  if (own) {
    const ok = await stat(own).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!ok) throw new Error(`UNROLLED_CHROMIUM=${own} is not a file; unset it to use the Chromium from the ${PACKAGE} devDependency`);
    return { path: own, source: 'UNROLLED_CHROMIUM' };
  }
  const source = `${PACKAGE}@${packageVersion()}`;
  let path: string;
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    path = await withUnpackLock(() => sparticuz.executablePath());
  } catch (e) {
    throw new Error(
      `could not unpack the headless Chromium of ${source} into ${tmpdir()}: ${(e as Error).message} ` +
        `(is \`npm install\` complete, and is there ~200 MB free in the temp dir?)`,
    );
  }
  return { path, source };
}

/** A headless Chromium; on failure the error says which binary failed to start, and why. */
export async function launchChromium(): Promise<Browser> {
  const exe = await chromiumExecutable();
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: exe.path, headless: true, args: ARGS, timeout: 60_000 });
  } catch (e) {
    const hint =
      exe.source === 'UNROLLED_CHROMIUM'
        ? 'unset UNROLLED_CHROMIUM to use the Chromium from npm instead'
        : `${exe.path} is reused once unpacked: if an earlier run was killed while unpacking it, delete it and run again`;
    throw new Error(`Chromium ${exe.path} (from ${exe.source}) did not start: ${(e as Error).message}\n(${hint})`);
  }
  // executablePath() reuses whatever binary is at that path, even one another version unpacked
  const major = exe.source.match(/@(\d+)\./)?.[1];
  if (major && !browser.version().startsWith(`${major}.`)) {
    console.warn(`${exe.path} is Chromium ${browser.version()}, not ${major} as ${exe.source} ships; delete it to unpack the pinned one`);
  }
  return browser;
}
