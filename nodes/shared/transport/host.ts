/**
 * The credential's Host: a base URL for the SDK. Mistakes here would otherwise surface as a 404
 * "model not found" or a retried network error, so they are named before any request.
 */

/** What is wrong with a Host value, or undefined when it can be used. */
export function hostProblem(host: string): string | undefined {
	let url: URL;
	try {
		url = new URL(host);
	} catch {
		return `"${host}" is not a URL. Use a base URL such as https://generativelanguage.googleapis.com.`;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:')
		return `Host must start with https:// (it starts with ${url.protocol}//).`;
	if (url.username || url.password)
		return 'Host must not contain a user name or password; the key belongs in the API Key field.';
	if (url.search || url.hash)
		return 'Host must not have a query (?…) or fragment (#…): give the base URL only.';
	// A gateway may need a path prefix; an API path pasted whole (…/v1beta/models/…) is the usual
	// mistake.
	if (/\/(v1|v1beta|v1alpha|v1beta1)(\/|$)|\/models(\/|:|$)|:generateContent/i.test(url.pathname)) {
		return `Host must be the base URL without the API path: use ${url.origin} instead of ${url.origin}${url.pathname}.`;
	}
	return undefined;
}

/**
 * Vertex AI's host for a location: one global host, a host per region, and the us/eu multi-regions.
 */
export function vertexBaseUrl(location: string | undefined): string {
	if (!location || location === 'global') return 'https://aiplatform.googleapis.com';
	if (location === 'us' || location === 'eu')
		return `https://aiplatform.${location}.rep.googleapis.com`;
	return `https://${location}-aiplatform.googleapis.com`;
}
