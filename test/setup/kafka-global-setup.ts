// Placeholder until deploy/kafka lands: the integration project's global setup.
export default async function setup(): Promise<void> {}
