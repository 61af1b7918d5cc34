export { GeminiClient, API_VERSION, DEFAULT_HOST, restRequest } from './client';
export type { BatchRequest, BatchResultLine, BatchStatus, CallSettings, GeminiConnection, GenerateRequest, RemoteModel, UploadedFile } from './client';
export { GeminiFailure, classifyError, parseRetryDelay, parseRetryAfter, redactSecret } from './errors';
export { parseGenerateResponse } from './response';
export type { GenerateResult, ResultImage, Usage, WireContent, WirePart, WireResponse } from './response';
export { withRetry, backoffDelay, serverDelay } from './retry';
export { RequestGate } from './gate';
export type { RetryPolicy, RetryStats } from './retry';
export { hostProblem } from './host';
