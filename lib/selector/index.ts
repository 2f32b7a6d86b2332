/**
 * Kubernetes label-selector engine: a port of k8s.io/apimachinery/pkg/labels selector parsing and
 * matching. See parser.ts for the grammar and the documented differences from Kubernetes.
 */
export { SelectorSyntaxError } from './errors.js';
export { parseSelector } from './parser.js';
export { everything, selectorOf, compareRequirements, type Selector } from './selector.js';
export { Requirement, Operators, requirementProblem, type Operator, type Labels } from './requirement.js';
export { isValidLabelKey, parseInt64, compareStrings } from './validation.js';
export { lex, TokenKind, TOKEN_NAMES, type Token } from './lexer.js';
