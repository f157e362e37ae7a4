/**
 * Evaluates arithmetic without `eval`: numbers, + - * / % ^, parentheses, unary minus and a
 * few functions. A small recursive-descent parser, so a model can never run code through it.
 */
const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  sqrt: Math.sqrt,
  abs: Math.abs,
  round: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
  min: Math.min,
  max: Math.max,
  log: Math.log10,
  ln: Math.log,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export class CalculatorError extends Error {
  override readonly name = 'CalculatorError';
}

export function calculate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[a-z]+|[-+*/%^(),]|\S/gi) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string) => {
    const token = tokens[position++];
    if (expected !== undefined && token !== expected) {
      throw new CalculatorError(
        `expected "${expected}" but found ${token === undefined ? 'the end' : `"${token}"`}`,
      );
    }
    return token;
  };

  const primary = (): number => {
    const token = take();
    if (token === undefined) throw new CalculatorError('the expression ends too early');
    if (/^\d/.test(token)) return Number(token);
    if (token === '(') {
      const value = sum();
      take(')');
      return value;
    }
    if (token === '-') return -power();
    if (token === '+') return power();
    const name = token.toLowerCase();
    if (name in CONSTANTS) return CONSTANTS[name]!;
    const fn = FUNCTIONS[name];
    if (fn) {
      take('(');
      const args = [sum()];
      while (peek() === ',') {
        take(',');
        args.push(sum());
      }
      take(')');
      return fn(...args);
    }
    throw new CalculatorError(`unknown symbol "${token}"`);
  };
  const power = (): number => {
    const base = primary();
    if (peek() === '^') {
      take('^');
      return base ** power(); // right-associative
    }
    return base;
  };
  const product = (): number => {
    let value = power();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      take();
      const right = power();
      if ((op === '/' || op === '%') && right === 0) throw new CalculatorError('division by zero');
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      take();
      value = op === '+' ? value + product() : value - product();
    }
    return value;
  };

  if (expression.length > 500)
    throw new CalculatorError('the expression is longer than 500 characters');
  const result = sum();
  if (position < tokens.length) throw new CalculatorError(`unexpected "${tokens[position]}"`);
  if (!Number.isFinite(result)) throw new CalculatorError('the result is not a finite number');
  return result;
}
