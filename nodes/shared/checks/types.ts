/** One entry of `verification.checks`: every check, local or remote, reports in this shape. */
export interface CheckResult {
	name: string;
	passed: boolean;
	/** 0..1 where the check measures something on a scale (similarity, for example). */
	score?: number;
	details: Record<string, unknown> | string;
}
