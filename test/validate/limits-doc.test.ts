// docs/limits.md lists the domain of every number; the list is DOMAINS itself, so it cannot drift.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { domainTable } from '../../src/validate/index.js';

it('the domains table in docs/limits.md is domainTable() (regenerate the section between the markers when DOMAINS changes)', () => {
  const page = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
  const m = /<!-- domains:begin -->\n([\s\S]*?)\n<!-- domains:end -->/.exec(page);
  expect(m, 'docs/limits.md has a domains section').not.toBeNull();
  expect(m![1]).toBe(domainTable());
});
