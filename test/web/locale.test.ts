// The demo's locale fallback (web/locale.ts): whatever a browser reports as its language, the
// page must end up with tags Intl accepts, since uPlot formats numbers with navigator.language.
import { describe, expect, it } from 'vitest';
import { FALLBACK_LOCALE, repairNavigatorLocale, safeLocale } from '../../web/locale.js';

/** An object shaped like Navigator: the locale getters live on the prototype, as in browsers. */
function fakeNavigator(language: string | undefined, languages: string[]) {
  const proto = {
    get language() {
      return language;
    },
    get languages() {
      return Object.freeze([...languages]);
    },
  };
  return Object.create(proto) as { language?: string; languages?: readonly string[] };
}

describe('safeLocale', () => {
  it('keeps tags Intl accepts, canonicalized', () => {
    expect(safeLocale('en-US')).toBe('en-US');
    expect(safeLocale('fr-CA')).toBe('fr-CA');
    expect(safeLocale('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(safeLocale('de-DE-u-nu-latn')).toBe('de-DE-u-nu-latn');
  });

  it('repairs POSIX-style names: ICU modifiers, underscores, code sets', () => {
    expect(() => new Intl.NumberFormat('en-US@posix')).toThrow(RangeError); // what Chromium reports under LANG=C.UTF-8
    expect(safeLocale('en-US@posix')).toBe('en-US');
    expect(safeLocale('de_DE.UTF-8')).toBe('de-DE');
    expect(safeLocale('sr_RS@latin')).toBe('sr-RS');
  });

  it('falls back when nothing usable is left', () => {
    for (const tag of [undefined, null, '', 'C', 'C.UTF-8', 'POSIX', '@', '!!', 'x', 'en--US']) {
      expect(safeLocale(tag), String(tag)).toBe(FALLBACK_LOCALE);
    }
    expect(safeLocale('C.UTF-8', 'de-DE')).toBe('de-DE');
  });

  it('always returns something Intl.NumberFormat takes', () => {
    for (const tag of ['en-US@posix', 'ja_JP.eucJP', 'i-klingon', 'und', 'a-b-c', '123', 'en-US-x-private', 'root']) {
      expect(() => new Intl.NumberFormat(safeLocale(tag)), tag).not.toThrow();
    }
  });
});

describe('repairNavigatorLocale', () => {
  it('shadows an invalid navigator.language and languages with usable tags', () => {
    const nav = fakeNavigator('en-US@posix', ['en-US@posix', 'de_DE', 'en-US']);
    expect(repairNavigatorLocale(nav)).toBe(true);
    expect(nav.language).toBe('en-US');
    expect(nav.languages).toEqual(['en-US', 'de-DE']);
    expect(new Intl.NumberFormat(nav.language).format(1234.5)).toBe('1,234.5');
  });

  it('leaves a valid navigator alone', () => {
    const nav = fakeNavigator('de-DE', ['de-DE', 'en']);
    expect(repairNavigatorLocale(nav)).toBe(false);
    expect(Object.getOwnPropertyNames(nav)).toEqual([]);
    expect(repairNavigatorLocale(undefined)).toBe(false);
  });

  it('gives a navigator without a language the fallback', () => {
    const nav = fakeNavigator(undefined, []);
    expect(repairNavigatorLocale(nav)).toBe(true);
    expect(nav.language).toBe(FALLBACK_LOCALE);
    expect(nav.languages).toEqual([FALLBACK_LOCALE]);
  });
});
