// Plain JavaScript on purpose: it is registered before the store loads (main.js, `parley start`).
import { registerHooks } from 'node:module';

/**
 * Resolves drizzle-orm's own relative imports without Node's package lookup. Node 24 finds a
 * `.js` file's format from its package.json, and each time it re-parses that file's whole
 * `exports` map (the lookup spreads a lazily parsed object); drizzle-orm's package.json is
 * ~180 KB with ~450 exports and it imports ~400 of its own files, so start-up spent seconds
 * parsing the same JSON (measured: loading drizzle's entry points 4.9 s → 0.7 s on a loaded
 * 2-core machine). Within drizzle-orm every `.js` file is an ES module (one package.json,
 * `"type": "module"`; fast-resolve.test.ts checks that this still holds), so the answer is
 * known. Everything else resolves as Node does.
 */
export function registerFastResolve() {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (
        context.parentURL?.includes('/node_modules/drizzle-orm/') &&
        (specifier.startsWith('./') || specifier.startsWith('../')) &&
        specifier.endsWith('.js')
      ) {
        return {
          url: new URL(specifier, context.parentURL).href,
          format: 'module',
          shortCircuit: true,
        };
      }
      return nextResolve(specifier, context);
    },
  });
}
