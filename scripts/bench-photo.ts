/**
 * The benchmarks' 24-megapixel camera-like photo: a real photo upscaled to 6000x4000 with
 * sensor-like noise, JPEG q92 (about 12 MB). Used by bench-input-bytes.ts and bench-n8n.ts.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';

export async function makePhoto(): Promise<Buffer> {
	const [width, height] = [6000, 4000];
	const base = await sharp(
		readFileSync(join(__dirname, '..', 'test', 'fixtures', 'photos', 'sunrise_gps.jpg')),
	)
		.resize(width, height, { fit: 'cover' })
		.toBuffer();
	const noise = await sharp({
		create: {
			width,
			height,
			channels: 3,
			background: '#808080',
			noise: { type: 'gaussian', mean: 128, sigma: 12 },
		},
	})
		.png()
		.toBuffer();
	return await sharp(base)
		.composite([{ input: noise, blend: 'overlay' }])
		.jpeg({ quality: 92 })
		.toBuffer();
}
