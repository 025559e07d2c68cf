// Replaced by the shim implementation.
int main() { return 1; }
