/**
 * Error bodies in the exact shapes the Gemini API returns. The 429 bodies copy
 * test/fixtures/responses/real_429_*.json.
 */

export interface GoogleErrorBody {
	error: { code: number; message: string; status: string; details?: unknown[] };
}

/** An error the router turns into an HTTP answer. */
export class SimHttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: GoogleErrorBody,
		readonly headers: Record<string, string> = {},
	) {
		super(body.error.message);
	}
}

export function googleError(
	code: number,
	status: string,
	message: string,
	details?: unknown[],
): GoogleErrorBody {
	return { error: { code, message, status, ...(details ? { details } : {}) } };
}

export function invalidArgument(message: string, details?: unknown[]): SimHttpError {
	return new SimHttpError(400, googleError(400, 'INVALID_ARGUMENT', message, details));
}

export function notFound(message: string): SimHttpError {
	return new SimHttpError(404, googleError(404, 'NOT_FOUND', message));
}

export function permissionDenied(message: string): SimHttpError {
	return new SimHttpError(403, googleError(403, 'PERMISSION_DENIED', message));
}

const INVALID_KEY = 'API key not valid. Please pass a valid API key.';

export function apiKeyInvalid(service = 'generativelanguage.googleapis.com'): SimHttpError {
	return new SimHttpError(
		400,
		googleError(400, 'INVALID_ARGUMENT', INVALID_KEY, [
			{
				'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
				reason: 'API_KEY_INVALID',
				domain: 'googleapis.com',
				metadata: { service },
			},
			{
				'@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
				locale: 'en-US',
				message: INVALID_KEY,
			},
		]),
	);
}

export function modelNotFound(model: string, apiVersion: string, method: string): SimHttpError {
	return notFound(
		`models/${model} is not found for API version ${apiVersion}, or is not supported for ${method}. ` +
			'Call ListModels to see the list of available models and their supported methods.',
	);
}

export function unreadableImage(): SimHttpError {
	return invalidArgument(
		'Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
	);
}

export function payloadTooLarge(limit: number): SimHttpError {
	return invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
}

/** One "Unknown name" violation, worded and placed the way Google's JSON parser reports it. */
export interface FieldViolation {
	field?: string;
	description: string;
}

export function badRequest(violations: FieldViolation[]): SimHttpError {
	return invalidArgument(violations.map((v) => v.description).join('\n'), [
		{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
	]);
}

export interface QuotaOptions {
	model: string;
	retryDelay: string;
	/** The delay the message states, when it is more exact than RetryInfo (Google: "58.217843437s" vs "58s"). */
	messageDelay?: string;
	quotaValue?: string;
	quotaId?: string;
}

export function quotaExceeded({
	model,
	retryDelay,
	messageDelay = retryDelay,
	quotaValue = '10',
	quotaId = 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
}: QuotaOptions): GoogleErrorBody {
	const metric = 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
	return googleError(
		429,
		'RESOURCE_EXHAUSTED',
		'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
			'error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: ' +
			`https://ai.dev/rate-limit. \n* Quota exceeded for metric: ${metric}, limit: ${quotaValue}, model: ${model}\n` +
			`Please retry in ${messageDelay}.`,
		[
			{
				'@type': 'type.googleapis.com/google.rpc.Help',
				links: [
					{
						description: 'Learn more about Gemini API quotas',
						url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
					},
				],
			},
			{
				'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
				violations: [
					{
						quotaMetric: metric,
						quotaId,
						quotaDimensions: { model, location: 'global' },
						quotaValue,
					},
				],
			},
			{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
		],
	);
}

export function quotaExceededNoDetails(): GoogleErrorBody {
	return googleError(
		429,
		'RESOURCE_EXHAUSTED',
		'Resource exhausted. Please try again later. Please refer to ' +
			'https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
	);
}

export function internalError(): GoogleErrorBody {
	return googleError(
		500,
		'INTERNAL',
		'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
	);
}

export function overloaded(): GoogleErrorBody {
	return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
}

/** The page Google's front end serves for a 502, as text/html. */
export const BAD_GATEWAY_HTML = `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>502.</b> <ins>That’s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>
`;

/** google.rpc.Code numbers, used for per-request errors inside batch results. */
export const RPC_CODE: Record<string, number> = {
	INVALID_ARGUMENT: 3,
	NOT_FOUND: 5,
	PERMISSION_DENIED: 7,
	RESOURCE_EXHAUSTED: 8,
	INTERNAL: 13,
	UNAVAILABLE: 14,
};
