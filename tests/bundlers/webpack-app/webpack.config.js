const path = require("path");
const HtmlWebpackPlugin = require("html-webpack-plugin");
const MiniCssExtractPlugin = require("mini-css-extract-plugin");
const { WebpackManifestPlugin } = require("webpack-manifest-plugin");
const { WebpackAssetsManifest } = require("webpack-assets-manifest");

// webpack's documented caching set-up: [contenthash] in every emitted name,
// and both common manifest plugins (manifest.json, assets-manifest.json).
module.exports = {
  entry: { main: "./src/index.js" },
  output: {
    path: path.resolve(__dirname, "dist"),
    filename: "[name].[contenthash].js",
    chunkFilename: "[name].[contenthash:8].js",
    publicPath: "/",
    clean: true,
  },
  module: {
    rules: [
      { test: /\.css$/, use: [MiniCssExtractPlugin.loader, "css-loader"] },
      { test: /\.png$/, type: "asset/resource" },
    ],
  },
  plugins: [
    new HtmlWebpackPlugin({ template: "./src/index.html" }),
    new MiniCssExtractPlugin({ filename: "[name].[contenthash:8].css" }),
    new WebpackManifestPlugin({}),
    new WebpackAssetsManifest({ output: "assets-manifest.json" }),
  ],
  optimization: { moduleIds: "deterministic", runtimeChunk: "single" },
};
