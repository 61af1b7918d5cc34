/** Names the credential, the nodes and the transport share; kept free of imports so the credential can load it alone. */
export const CREDENTIAL_NAME = 'nanoBananaApi';
export const DEFAULT_HOST = 'https://generativelanguage.googleapis.com';
