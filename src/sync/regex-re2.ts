/**
 * The regular expressions of filters run on RE2 (re2js, pure JavaScript): the time to match
 * is linear in the input whatever the pattern, where JavaScript's backtracking RegExp can
 * take seconds or hours (`^(a|a)*$` against thirty a's and a '!'). The syntax is RE2's,
 * close to MongoDB's PCRE without what needs backtracking: backreferences, lookahead and
 * lookbehind, atomic groups and possessive quantifiers are refused with a message naming them.
 */
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { FILTER_LIMITS } from './filter-allowlist.js';

/** MongoDB's `$options` letters RE2 has. `u` changes nothing: RE2 always reads Unicode. */
const FLAGS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  u: 0,
};

/** Compiled patterns shared by the matchers of every session (by options and pattern). */
const cache = new Map<string, RE2JS>();
const CACHE_SIZE = 512;

function flagsOf(options: string): number {
  let flags = 0;
  for (const letter of options) {
    const flag = FLAGS[letter];
    if (flag !== undefined) flags |= flag;
    else if (letter === 'x') throw new Error('$options "x" (extended syntax) is not supported');
    else throw new Error(`$options "${letter}" is not one of i, m, s, u`);
  }
  return flags;
}

/** RE2's reason, said in terms of what the pattern asked for where it is a known gap. */
function reasonOf(error: RE2JSSyntaxException): string {
  const message = error.message.replace(/^error parsing regexp: /, '');
  if (/invalid escape sequence: `\\(?:[1-9]|k)/.test(message)) {
    return 'backreferences (\\1, \\k<name>) are not supported';
  }
  if (/`\(\?<?[=!]/.test(message)) {
    return 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported';
  }
  return message;
}

function compile(pattern: string, options: string): RE2JS {
  if (pattern.length > FILTER_LIMITS.regexLength) {
    throw new Error(`regular expression is longer than ${FILTER_LIMITS.regexLength} characters`);
  }
  const flags = flagsOf(options);
  try {
    return RE2JS.compile(pattern, flags);
  } catch (error) {
    if (!(error instanceof RE2JSSyntaxException)) throw error;
    throw new Error(
      `regular expression ${JSON.stringify(pattern)} cannot run on RE2, the linear-time ` +
        `engine filters use: ${reasonOf(error)}`,
    );
  }
}

/**
 * A pattern with MongoDB `$options`, compiled for RE2; throws naming what RE2 cannot run.
 * `test(input)` searches the input (unanchored), as a MongoDB $regex does.
 */
export function compileRegex(pattern: string, options = ''): RE2JS {
  const key = `${options}/${pattern}`;
  let re = cache.get(key);
  if (!re) {
    re = compile(pattern, options);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, re);
  }
  return re;
}
