/** Registers the store's resolve hook for drizzle-orm (fast-resolve.js; see the store's). */
export function registerFastResolve(): void;
