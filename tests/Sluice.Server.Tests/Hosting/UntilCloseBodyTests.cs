using System.Text;
using Sluice.Server.Hosting;

namespace Sluice.Server.Tests.Hosting;

public sealed class UntilCloseBodyTests
{
    [Theory]
    [InlineData("POST /f.ffm HTTP/1.1\r\nHost: x\r\nUser-Agent: Lavf/59.27.100", true)]
    [InlineData("PUT /f.ffm HTTP/1.1\r\nHost: x", true)]
    [InlineData("POST /f.ffm HTTP/1.1\r\nTransfer-Encoding: chunked", false)]
    [InlineData("PUT /f.ffm HTTP/1.1\r\ncontent-length : 10", false)]
    [InlineData("GET /livestream HTTP/1.1\r\nHost: x", false)]
    [InlineData("POSTX /f.ffm HTTP/1.1", false)]
    public void Only_a_POST_or_PUT_with_no_length_and_no_chunks_gets_a_body_until_close(string head, bool expected) =>
        Assert.Equal(expected, UntilCloseBody.NeedsUntilClose(Encoding.ASCII.GetBytes(head)));
}
