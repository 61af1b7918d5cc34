const path = require('path');
const { task, src, dest, parallel } = require('gulp');

// gulp 5 reads files as text unless told otherwise, which corrupts binary icons.
function copyIcons(folder) {
	return () =>
		src(path.join(folder, '**', '*.{png,svg}'), { encoding: false }).pipe(
			dest(path.join('dist', folder)),
		);
}

function copyCodex() {
	return src(path.join('nodes', '**', '*.node.json')).pipe(dest(path.join('dist', 'nodes')));
}

task('build:icons', parallel(copyIcons('nodes'), copyIcons('credentials'), copyCodex));
