// The domains as a Markdown table, for docs/limits.md (a test keeps the page equal to this).
import { renderDomain } from './domain.js';
import { DOMAINS } from './domains.js';

/** One row per entry of DOMAINS: name, domain in words, meaning. */
export function domainTable(): string {
  const rows = Object.entries(DOMAINS).map(([name, d]) => `| \`${name}\` | ${renderDomain(d)} | ${(d.doc ?? '').replace(/\|/g, '\\|')} |`);
  return ['| name | domain | what it is |', '|---|---|---|', ...rows].join('\n');
}
