// Static export of the App Router app: `next build` writes out/ (index.html,
// reports.html, the RSC payload .txt files and _next/static/...).
const appVersion = process.env.APP_VERSION || 'v1';

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  images: { unoptimized: true },
  productionBrowserSourceMaps: false,
  // Deterministic build id per version, so that rebuilding gives the same tree.
  generateBuildId: async () => `build-${appVersion}`,
  env: {
    NEXT_PUBLIC_APP_VERSION: appVersion,
  },
};

export default nextConfig;
