/** Types of highlight-engine.js (see there why it is JavaScript). */
/** The registered grammars' names. */
export declare const HIGHLIGHT_LANGUAGES: readonly string[];
/** The registered language that `name` (a name or an alias such as `js`, `py`, `sh`, `html`) means, or undefined. */
export declare function findLanguage(name: string): string | undefined;
/** highlight.js's HTML for `code` in `language` (a registered name): `<span class="hljs-…">` and escaped text only. */
export declare function highlightHtml(code: string, language: string): string;
