// Node only: reads the core's .wasm file from the package directory.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defaultCoreUrl, setDefaultCoreReader } from '../runtime/load.js';

setDefaultCoreReader(async (variant) => readFile(fileURLToPath(defaultCoreUrl(variant))));
