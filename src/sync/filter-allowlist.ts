/**
 * What a filter may hold: the one list of operators and limits for the filters of sync
 * queries (`openSession`, `updateQueries`) and of read and write rules (the rules file).
 * filter-policy.ts refuses anything else before mingo compiles a filter, naming the operator
 * or limit and where in the filter it is; query-match.ts gives mingo these operators only.
 *
 * Query operators
 * - beside fields:  $and $or $nor (non-empty lists of filters), $expr (an expression)
 * - on a field:     $eq $ne $gt $gte $lt $lte, $in $nin (lists), $exists, $type, $not,
 *                   $all, $elemMatch, $size, $mod ([divisor, remainder]),
 *                   $regex with $options (i, m, s, u), run on RE2 (regex-re2.ts)
 * Expression operators, inside $expr (each costs at most one pass over its inputs)
 * - boolean:        $and $or $not
 * - comparison:     $eq $ne $gt $gte $lt $lte $cmp
 * - conditional:    $cond $ifNull
 * - arithmetic:     $add $subtract $multiply $divide $mod $abs $ceil $floor $round $trunc
 * - string:         $toLower $toUpper $strLenCP $substrCP $strcasecmp,
 *                   $regexMatch ({ input, regex, options } with a constant regex, on RE2)
 * - array:          $size $in $arrayElemAt $isArray
 * - type:           $type $isNumber
 * - literal:        $literal
 * - variables:      $$ROOT and $$CURRENT (the document) only
 *
 * Refused, among others: code ($where, $function, $accumulator); $jsonSchema (no validator
 * is configured for mingo; a collection's schema belongs in the rules file); $text, $near
 * and the other operators mingo does not run; $regexFind and $regexFindAll (captures run
 * outside RE2's fast path; $regexMatch answers what a filter asks); loops and builders whose
 * cost or output grows with the document or the filter ($map $filter $reduce $range $concat
 * $concatArrays $split $replaceAll ...); $let and variables other than the document ($$NOW
 * would make a document leave a session's scope with no change to announce it).
 */

/** Operators that stand beside field names in a filter. */
export const TOP_LEVEL_OPERATORS: ReadonlySet<string> = new Set(['$and', '$or', '$nor', '$expr']);

/** Operators on a field: `{ price: { $gte: 10 } }`. */
export const FIELD_OPERATORS: ReadonlySet<string> = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$type',
  '$not',
  '$all',
  '$elemMatch',
  '$size',
  '$mod',
  '$regex',
  '$options',
]);

/** Operators of an aggregation expression inside `$expr`. */
export const EXPRESSION_OPERATORS: ReadonlySet<string> = new Set([
  '$and',
  '$or',
  '$not',
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$cmp',
  '$cond',
  '$ifNull',
  '$add',
  '$subtract',
  '$multiply',
  '$divide',
  '$mod',
  '$abs',
  '$ceil',
  '$floor',
  '$round',
  '$trunc',
  '$toLower',
  '$toUpper',
  '$strLenCP',
  '$substrCP',
  '$strcasecmp',
  '$regexMatch',
  '$size',
  '$in',
  '$arrayElemAt',
  '$isArray',
  '$type',
  '$isNumber',
  '$literal',
]);

/** The variables an expression may read: the document itself, optionally with a path. */
export const EXPRESSION_VARIABLE = /^\$\$(?:ROOT|CURRENT)(?:\.|$)/;

/**
 * Limits on one filter, checked when it is compiled, so that matching one document (at most
 * 256 KiB, validate.ts) costs a bounded amount: every condition or operator costs at most a
 * pass over the document, a regular expression at most (its RE2 program size) × (the
 * characters it reads). Real filters use a few conditions and short patterns; these leave
 * room for large `$in` lists of ids. Measured worst case on one core here: a filter at the
 * RE2 program budget against a 256 KiB string crafted to defeat RE2's DFA, about a second;
 * a pattern that defeats a backtracking engine, such as `^(a|a)*$`, takes milliseconds.
 */
export const FILTER_LIMITS = {
  /** JSON values (objects, arrays, strings, numbers, ...) in the whole filter. */
  nodes: 2000,
  /** Nesting of objects and arrays. */
  depth: 20,
  /** Characters of all keys and strings together. */
  characters: 64 * 1024,
  /** Conditions and operators evaluated per document (fields, operators, `$all` entries, paths in `$expr`). */
  operators: 100,
  /** Entries of one `$in`, `$nin` or `$all` list. */
  listLength: 1000,
  /** Characters of one regular expression. */
  regexLength: 256,
  /** RE2 program size (RE2's measure of a pattern's cost) of all the filter's patterns together. */
  regexProgram: 128,
} as const;
