export * from './check';
export * from './c2pa';
export * from './iptc';
export * from './digitalSourceType';
