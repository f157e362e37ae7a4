/** The plugin contract this core speaks; a plugin declares the one it was written for. */
export const PLUGIN_CONTRACT = 1 as const;

/** This core's version, checked against each plugin's declared range. Kept equal to package.json by a test. */
export const CORE_VERSION = '0.1.0';
