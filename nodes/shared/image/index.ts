export * from './inputError';
export * from './info';
export * from './convert';
export * from './prepare';
export * from './mask';
export { TRAINED_ALGORITHMIC_MEDIA, insertPngXmp } from './xmp';
