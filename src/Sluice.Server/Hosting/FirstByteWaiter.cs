using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Sluice.Server.Delivery;

namespace Sluice.Server.Hosting;

/// <summary>
/// An accepted connection whose client has sent nothing yet: its socket and its place in the gate, nothing else.
/// <see cref="Close"/> (the gate's sweep, or shutdown) takes it out of its waiter first, then closes the socket.
/// </summary>
internal sealed class WaitingSocket(Socket socket)
{
    public Socket Socket { get; } = socket;

    public ConnectionGate.Entry Entry { get; set; } = null!;

    /// <summary>The waiter it is in, once it is in one.</summary>
    public FirstByteWaiter? Waiter { get; set; }

    public void Close()
    {
        var waiter = Waiter;
        bool taken = waiter?.Remove(this) ?? false;
        Socket.Dispose();
        if (taken)
        {
            waiter!.Gone(this);
        }
    }
}

/// <summary>
/// Waits for the first byte of many accepted sockets at a cost of a socket each, and calls back when one is readable
/// (data, or the client closed: the callback tells them apart).
/// </summary>
internal abstract partial class FirstByteWaiter : IDisposable
{
    private readonly Action<WaitingSocket> _readable;
    private readonly Action<WaitingSocket> _gone;

    protected FirstByteWaiter(Action<WaitingSocket> readable, Action<WaitingSocket> gone)
    {
        _readable = readable;
        _gone = gone;
    }

    /// <summary>
    /// The waiter for this machine: one epoll set of its own on Linux, a zero-byte receive per socket elsewhere. Every
    /// socket added ends in exactly one of the callbacks: <paramref name="readable"/> (its client sent something or
    /// closed) or <paramref name="gone"/> (it was closed while waiting).
    /// </summary>
    /// <param name="epoll">False: the portable waiter even on Linux (tests run both).</param>
    public static FirstByteWaiter Create(Action<WaitingSocket> readable, Action<WaitingSocket> gone, ILogger logger, bool epoll = true)
    {
        if (epoll && OperatingSystem.IsLinux() && EpollWaiter.TryCreate(readable, gone, logger) is { } epollWaiter)
        {
            return epollWaiter;
        }

        return new ReceiveWaiter(readable, gone);
    }

    /// <summary>Starts waiting for the socket's first byte.</summary>
    public abstract void Add(WaitingSocket waiting);

    /// <summary>Stops waiting for it, as it is being closed: true when no readable callback comes for it (the gone one will).</summary>
    public abstract bool Remove(WaitingSocket waiting);

    public abstract void Dispose();

    protected void Readable(WaitingSocket waiting) => _readable(waiting);

    internal void Gone(WaitingSocket waiting) => _gone(waiting);

    /// <summary>
    /// A zero-byte receive per socket: portable, but each waiting socket holds the runtime's receive state (a heap
    /// dump at 10,000 waiting sockets: its event args, receive operation, callback and the wait's state machine, about
    /// 800 bytes).
    /// </summary>
    private sealed class ReceiveWaiter(Action<WaitingSocket> readable, Action<WaitingSocket> gone) : FirstByteWaiter(readable, gone)
    {
        public override void Add(WaitingSocket waiting)
        {
            waiting.Waiter = this;
            _ = WaitAsync(waiting);
        }

        // The pending receive fails when the socket closes, and its callback follows.
        public override bool Remove(WaitingSocket waiting) => false;

        public override void Dispose()
        {
        }

        private async Task WaitAsync(WaitingSocket waiting)
        {
            try
            {
                await waiting.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Reset, or closed by the gate's sweep: the callback finds it closed or with nothing to read.
            }

            Readable(waiting);
        }
    }

    /// <summary>
    /// One epoll set of the waiter's own, read by one thread: a waiting socket costs its descriptor's registration in
    /// the kernel and an entry in a table, as in nginx. When a socket becomes readable it leaves the set and the
    /// callback makes the runtime's (Kestrel's) connection of it, which registers it with the runtime's own epoll.
    /// </summary>
    private sealed partial class EpollWaiter : FirstByteWaiter
    {
        private const int EpollCtlAdd = 1;
        private const int EpollCtlDel = 2;
        private const uint EpollIn = 0x001;
        private const uint EpollRdHup = 0x2000;
        private const uint EpollOneShot = 1u << 30;
        private const int EpollCloexec = 0x80000;
        private const int MaxEvents = 256;

        private readonly int _epoll;
        private readonly Lock _lock = new();
        private readonly Dictionary<int, WaitingSocket> _byDescriptor = [];
        private readonly ILogger _logger;
        private readonly Thread _thread;
        private volatile bool _stopping;

        private EpollWaiter(int epoll, Action<WaitingSocket> readable, Action<WaitingSocket> gone, ILogger logger)
            : base(readable, gone)
        {
            _epoll = epoll;
            _logger = logger;
            _thread = new Thread(Run) { IsBackground = true, Name = "Sluice first-byte waiter" };
            _thread.Start();
        }

        public static EpollWaiter? TryCreate(Action<WaitingSocket> readable, Action<WaitingSocket> gone, ILogger logger)
        {
            // epoll_event is packed on x86-64 (12 bytes) and natural elsewhere (16 bytes).
            if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
            {
                return null;
            }

            try
            {
                int epoll = EpollCreate1(EpollCloexec);
                return epoll < 0 ? null : new EpollWaiter(epoll, readable, gone, logger);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }

        public override void Add(WaitingSocket waiting)
        {
            int fd = (int)waiting.Socket.SafeHandle.DangerousGetHandle();
            waiting.Waiter = this;
            bool added;
            lock (_lock)
            {
                _byDescriptor[fd] = waiting;
                added = Control(EpollCtlAdd, fd, EpollIn | EpollRdHup | EpollOneShot) == 0;
                if (!added)
                {
                    _byDescriptor.Remove(fd);
                }
            }

            if (!added)
            {
                // Out of kernel memory for the set: the callback takes it as it is (Kestrel's read waits as it would).
                waiting.Waiter = null;
                Readable(waiting);
            }
        }

        public override bool Remove(WaitingSocket waiting)
        {
            int fd = (int)waiting.Socket.SafeHandle.DangerousGetHandle();
            lock (_lock)
            {
                if (_byDescriptor.TryGetValue(fd, out var held) && held == waiting)
                {
                    _byDescriptor.Remove(fd);
                    Control(EpollCtlDel, fd, 0);
                    return true;
                }
            }

            return false; // it became readable first: its callback runs or has run
        }

        public override void Dispose()
        {
            _stopping = true;
            List<WaitingSocket> left;
            lock (_lock)
            {
                left = [.. _byDescriptor.Values];
            }

            foreach (var waiting in left)
            {
                waiting.Close();
            }
        }

        private void Run()
        {
            int size = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
            var events = new byte[MaxEvents * size];
            var ready = new List<WaitingSocket>(MaxEvents);
            while (!_stopping)
            {
                int n = EpollWait(_epoll, events, MaxEvents, 500);
                if (n < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error != 4) // EINTR
                    {
                        LogWaitFailed(_logger, Marshal.GetPInvokeErrorMessage(error));
                        Thread.Sleep(100);
                    }

                    continue;
                }

                ready.Clear();
                lock (_lock)
                {
                    for (int i = 0; i < n; i++)
                    {
                        // The data field (the descriptor) follows the 4-byte event mask, aligned to 8 off x86-64.
                        int fd = BitConverter.ToInt32(events, i * size + (size == 12 ? 4 : 8));
                        if (_byDescriptor.Remove(fd, out var waiting))
                        {
                            Control(EpollCtlDel, fd, 0);
                            ready.Add(waiting);
                        }
                    }
                }

                foreach (var waiting in ready)
                {
                    waiting.Waiter = null;
                    Readable(waiting);
                }
            }

            Close(_epoll);
        }

        private int Control(int op, int fd, uint mask)
        {
            int size = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
            Span<byte> ev = stackalloc byte[16];
            ev.Clear();
            BitConverter.TryWriteBytes(ev, mask);
            BitConverter.TryWriteBytes(ev[(size == 12 ? 4 : 8)..], (long)fd);
            return EpollCtl(_epoll, op, fd, ref MemoryMarshal.GetReference(ev));
        }

        [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
        private static extern int EpollCreate1(int flags);

        [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
        private static extern int EpollCtl(int epfd, int op, int fd, ref byte ev);

        [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
        private static extern int EpollWait(int epfd, [Out] byte[] events, int maxevents, int timeout);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        private static extern int Close(int fd);

        [LoggerMessage(EventId = 524, Level = LogLevel.Warning, Message = "Waiting for connections' first bytes failed ({Error}); trying again")]
        private static partial void LogWaitFailed(ILogger logger, string error);
    }
}
