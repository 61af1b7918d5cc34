/**
 * The credential's Host: a base URL for the SDK. Mistakes here would otherwise surface as a 404
 * "model not found" or a retried network error, so they are named before any request. A Host that
 * is wrong may hold a password (`https://user:pa#ss@proxy`), so what is wrong is said by its part
 * (scheme, user info, server, path, query) and the value is never quoted.
 */

const EXAMPLE = 'https://generativelanguage.googleapis.com';

/** An API path pasted into Host (…/v1beta/models/…); a gateway's own path prefix is fine. */
const API_PATH = /\/(v1|v1beta|v1alpha|v1beta1)(\/|$)|\/models(\/|:|$)|:generateContent/i;

/** What is wrong with a Host value, or undefined when it can be used. */
export function hostProblem(host: string): string | undefined {
	// Before parsing: a '#', '?' or '/' in a password moves the rest into another part of the URL,
	// and a base URL never has an '@'.
	if (host.includes('@'))
		return "Host must not contain a user name or password (the part before '@'); the key belongs in the API Key field.";
	const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(host)?.[1].toLowerCase();
	if (!scheme) return `Host must start with https:// (for example ${EXAMPLE}).`;
	// The scheme is letters only (checked above): saying it quotes nothing secret.
	if (scheme !== 'https' && scheme !== 'http')
		return `Host must start with https:// (it starts with ${scheme}://).`;
	let url: URL;
	try {
		url = new URL(host);
	} catch {
		return `The server name or port of Host cannot be read. Use a base URL such as ${EXAMPLE}.`;
	}
	if (url.search || url.hash || host.includes('?') || host.includes('#'))
		return 'Host must not have a query (?…) or fragment (#…): give the base URL only.';
	const api = API_PATH.exec(url.pathname)?.[0];
	if (api) return `Host must be the base URL without the API path: end it before "${api}".`;
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
