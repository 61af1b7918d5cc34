export {
	GeminiClient,
	API_VERSION,
	DEFAULT_HOST,
	VERTEX_API_VERSION,
	VERTEX_MAX_INLINE_IMAGE_BYTES,
	restRequest,
} from './client';
export type {
	BatchRequest,
	BatchResultLine,
	BatchStatus,
	CallSettings,
	GeminiConnection,
	GenerateRequest,
	RemoteModel,
	UploadedFile,
	VertexConnection,
} from './client';
export { parseServiceAccountKey, ServiceAccountTokens } from './vertexAuth';
export type { ServiceAccountKey } from './vertexAuth';
export {
	GeminiFailure,
	classifyError,
	httpOfRpcCode,
	modelNotFound,
	parseRetryDelay,
	parseRetryAfter,
	redactSecret,
} from './failure';
export { answerOutput, parseGenerateResponse } from './response';
export type {
	GenerateResult,
	ResultImage,
	Usage,
	WireContent,
	WirePart,
	WireResponse,
} from './response';
export { withRetry, backoffDelay, serverDelay } from './retry';
export { QuotaGate } from './gate';
export {
	AUTO_MAX,
	AUTO_START,
	QuotaGates,
	RequestGate,
	TaskGate,
	processQuotaGates,
	resetQuotaGates,
} from './quota';
export type { Admissions, ConcurrencyLimit } from './quota';
export { SpendGuard, formatUsd } from './spend';
export type { RequestPrice, SpendLimit, SpendLimits, SpendReport, SpendReservation } from './spend';
export type { RetryPolicy, RetryStats } from './retry';
export { hostProblem, vertexBaseUrl } from './host';
