export default function Job() { return null; }
