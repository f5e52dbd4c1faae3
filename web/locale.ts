// Browsers can report a locale that Intl refuses. Under a C/POSIX environment locale, Chromium
// reports navigator.language as "en-US@posix" (the ICU name, not a BCP 47 tag), and any
// `new Intl.NumberFormat(navigator.language)` throws RangeError: Invalid language tag. uPlot
// does exactly that when its module is evaluated, so one odd locale took the whole page down.

export const FALLBACK_LOCALE = 'en-US';

function accepted(tag: string): string | null {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (!canonical) return null;
    void new Intl.NumberFormat(canonical); // the formatter is what callers build; let it have the last word
    return canonical;
  } catch {
    return null;
  }
}

/**
 * `tag` if Intl accepts it (canonicalized), else the same locale with POSIX decorations removed
 * ("en_US.UTF-8" and "en-US@posix" are both "en-US"), else `fallback`.
 */
export function safeLocale(tag: string | null | undefined, fallback: string = FALLBACK_LOCALE): string {
  if (typeof tag !== 'string' || tag === '') return fallback;
  const bare = tag.split(/[.@]/, 1)[0].replace(/_/g, '-');
  // "C" and "POSIX" name no language at all ("posix" would even pass as a language subtag)
  if (bare === '' || /^(c|posix)$/i.test(bare)) return fallback;
  return accepted(tag) ?? accepted(bare) ?? fallback;
}

/**
 * Makes `nav.language` and `nav.languages` tags Intl accepts, by shadowing the getters with own
 * properties on that object, when either holds one it rejects. Returns whether it changed
 * anything. It has to run before any module that reads them at load time (uPlot) is evaluated.
 */
export function repairNavigatorLocale(nav: { language?: string; languages?: readonly string[] } | undefined): boolean {
  if (!nav) return false;
  const language = nav.language;
  const languages = Array.isArray(nav.languages) ? nav.languages : [];
  const good = safeLocale(language);
  const goodList = [...new Set(languages.map((l) => safeLocale(l)))];
  if (good === language && goodList.join('\n') === languages.join('\n')) return false;
  try {
    Object.defineProperty(nav, 'language', { value: good, configurable: true, enumerable: true });
    Object.defineProperty(nav, 'languages', {
      value: Object.freeze(goodList.length ? goodList : [good]),
      configurable: true,
      enumerable: true,
    });
  } catch {
    return false; // a frozen navigator: nothing more to do here
  }
  return true;
}
