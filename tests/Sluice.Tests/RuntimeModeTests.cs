namespace Sluice.Tests;

/// <summary>The tests' in-process servers run in the socket mode the sluice executable sets for itself.</summary>
public sealed class RuntimeModeTests
{
    [Fact]
    public void Socket_completions_run_inline_as_in_the_sluice_executable() =>
        Assert.Equal("1", Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));
}
