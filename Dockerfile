# One image for both processes; docker-compose picks the entry point.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY lua ./lua
COPY migrations ./migrations
COPY scripts ./scripts
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["npx", "--no-install", "tsx", "src/api.ts"]
