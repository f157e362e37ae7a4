/** Major version of the Parley Stream contract. Sent as `v` on every event and as a header. */
export const STREAM_VERSION = 1 as const;

/** HTTP header that announces the contract version on every event-stream response. */
export const STREAM_VERSION_HEADER = 'x-parley-stream';
