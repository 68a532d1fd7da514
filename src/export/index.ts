/** k6 script export: the public face of `src/export/`. */
export type { ExportWarning, ExportWarningKind } from './export-warning.ts';
export { formatExportWarning } from './export-warning.ts';
export type { FunctionTranslation, TranslateOptions } from './function-source.ts';
export { translateFunction } from './function-source.ts';
export type { K6Export, K6ExportOptions } from './k6-export.ts';
export { exportK6, K6_VERSION, XK6_SSE_MODULE } from './k6-export.ts';
export { k6Duration, mapLoad } from './k6-load.ts';
export { mapThresholds } from './k6-thresholds.ts';
export type { FlowRequests, PreparedK6Request } from './pregenerate.ts';
export { DEFAULT_REQUEST_LIMIT, pregenerateRequests } from './pregenerate.ts';
