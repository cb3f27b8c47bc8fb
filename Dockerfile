# One image for both Handoff processes: the worker (default command) and the webhook
# (`node dist/src/bin/webhook.js`). See docker-compose.yml.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed: the Temporal binaries come from the server images here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compile, then bundle the workflow code ahead of time so a worker starts in about a second.
RUN npx tsc -p tsconfig.build.json && node dist/src/bin/build-workflows.js

FROM node:20.20.2-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HANDOFF_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.cjs
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# The webhook's public listener (PORT) and its API listener (HANDOFF_API_PORT).
EXPOSE 3978 3979
CMD ["node", "dist/src/bin/worker.js"]
