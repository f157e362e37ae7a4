/** Resolves drizzle-orm's own relative imports without Node's package lookup (fast-resolve.js). */
export function registerFastResolve(): void;
